"""Routes of /pipelines: define pipelines of environments, see where each version runs, and
promote from one environment into the next."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from ..errors import InvalidRequest, NotFound
from ..model_base import Model
from ..models import (
    NAME_PATTERN,
    Environment,
    EnvironmentInventory,
    Pipeline,
    PipelineDefinition,
    PipelineInventory,
    PipelinePromoteBody,
    PipelinePromotionRequest,
    PipelineRecord,
)
from ..pipelines import PipelineService
from ..service import PromoterService
from .context import actor_of, base_path, lambda_context_of
from .errors import model_response, responses
from .idempotency import Idempotency
from .models import PromotionAccepted, PromotionSummary
from .promotions import LOCATION, IdempotencyKey

TAG = "pipelines"
PipelineName = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN, description="pipeline name")]


# --- bodies and views ----------------------------------------------------------------------------
class EnvironmentDefinitionView(Environment):
    """An environment as the API answers it: whether an external id is stored, never its value
    (a shared secret: templates/target-account.yaml keeps it NoEcho)."""

    external_id: SkipJsonSchema[None] = Field(default=None, exclude=True)
    external_id_set: bool = Field(description="an external id is stored for role_arn (its value is never returned)")

    @classmethod
    def of(cls, env: Environment) -> "EnvironmentDefinitionView":
        fields = {name: getattr(env, name) for name in type(env).model_fields if name != "external_id"}
        return cls(**fields, external_id_set=env.external_id is not None)


class PipelineDefinitionView(Pipeline):
    environments: list[EnvironmentDefinitionView] = Field(description="in promotion order")  # type: ignore[assignment]

    @classmethod
    def of(cls, pipeline: Pipeline) -> "PipelineDefinitionView":
        fields = {name: getattr(pipeline, name) for name in type(pipeline).model_fields if name != "environments"}
        return cls(**fields, environments=[EnvironmentDefinitionView.of(e) for e in pipeline.environments])


class PipelineView(Model):
    name: str
    description: str
    allow_override: bool
    environments: list[str] = Field(description="environment names, in promotion order")
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    definition: PipelineDefinitionView = Field(
        description="the pipeline as stored, without external ids (PUT it back, with each external_id, to change it)"
    )

    @classmethod
    def of(cls, record: PipelineRecord) -> "PipelineView":
        p = record.pipeline
        return cls(
            name=p.name,
            description=p.description,
            allow_override=p.allow_override,
            environments=[e.name for e in p.environments],
            created_by=record.created_by,
            created_at=record.created_at,
            updated_by=record.updated_by,
            updated_at=record.updated_at,
            definition=PipelineDefinitionView.of(p),
        )


class PipelinePage(Model):
    items: list[PipelineView]


class EnvironmentView(Model):
    name: str
    function: str
    function_arn: str | None
    alias: str
    role_arn: str | None = Field(description="role assumed for this environment (another account)")
    protected: bool
    version: str | None = Field(description="the version the alias points at")
    code_sha256: str | None = Field(description="CodeSha256 of that version")
    weights: dict[str, float] = Field(description="additional version -> share of traffic; empty when settled")
    frozen_until: datetime | None = Field(description="a freeze window is on until then")
    active_promotion: PromotionSummary | None
    last_promotion: PromotionSummary | None
    drift: bool | None = Field(
        description="the alias is not where lambda-promoter left it; null: no promotion on it yet"
    )
    drift_reason: str
    error: str | None = Field(description="why this environment could not be read")

    @classmethod
    def of(cls, env: EnvironmentInventory) -> "EnvironmentView":
        data = env.model_dump(exclude={"active_promotion", "last_promotion"})
        return cls(
            **data,
            active_promotion=PromotionSummary.of(env.active_promotion) if env.active_promotion else None,
            last_promotion=PromotionSummary.of(env.last_promotion) if env.last_promotion else None,
        )


class PipelineInventoryView(PipelineView):
    state: list[EnvironmentView] = Field(description="each environment as AWS has it now, in order")

    @classmethod
    def of_inventory(cls, inventory: PipelineInventory) -> "PipelineInventoryView":
        base = PipelineView.of(inventory.record)
        return cls(**base.model_dump(), state=[EnvironmentView.of(e) for e in inventory.environments])


# --- routes ----------------------------------------------------------------------------------------
def build_router(service: Callable[[], PromoterService], idempotency: Idempotency) -> Router:
    router = Router()
    cache: dict[str, Any] = {}

    def pipelines() -> PipelineService:
        promoter = service()
        if cache.get("promoter") is not promoter:
            cache.update(promoter=promoter, pipelines=PipelineService(promoter))
        pipeline_service: PipelineService = cache["pipelines"]
        return pipeline_service

    @router.put(
        "/pipelines/<name>",
        summary="Create or replace a pipeline",
        description=(
            "Environments in promotion order, each a target (function, alias, optional role_arn and "
            "external_id for another account) with its own strategy, alarms, hooks, protected, "
            "approval_by_other and freeze_windows. Every target is checked against AWS (through its role): "
            "the function exists and is tagged promoter:managed=true, the alias, alarms and hooks exist."
        ),
        tags=[TAG],
        operation_id="putPipeline",
        responses=responses(
            200,
            PipelineView,
            "The pipeline as stored",
            404,
            415,
            notes={
                404: "The path is not a pipeline name (no such route)",
                422: "Invalid pipeline, named by field: no environment, duplicate names, role ARN format, "
                "freeze window syntax, or a target that does not exist or cannot be reached",
            },
        ),
    )
    def put_pipeline(name: PipelineName, definition: PipelineDefinition) -> Response[PipelineView]:
        record = pipelines().put(name, definition, actor_of(router.current_event))
        return model_response(200, PipelineView.of(record))

    @router.get(
        "/pipelines",
        summary="List pipelines, by name",
        tags=[TAG],
        operation_id="listPipelines",
        responses=responses(200, PipelinePage, "The pipelines"),
    )
    def list_pipelines() -> Response[PipelinePage]:
        return model_response(200, PipelinePage(items=[PipelineView.of(r) for r in pipelines().list()]))

    @router.get(
        "/pipelines/<name>",
        summary="A pipeline and where each version runs",
        description=(
            "The definition, and per environment (in `state`): function, alias, version, CodeSha256, "
            "routing weights, the active and the last promotion, a freeze in force, and drift (the alias "
            "is not where lambda-promoter left it). An environment that cannot be read has `error`."
        ),
        tags=[TAG],
        operation_id="getPipeline",
        responses=responses(200, PipelineInventoryView, "The pipeline and its inventory", 404),
    )
    def get_pipeline(name: PipelineName) -> Response[PipelineInventoryView]:
        return model_response(200, PipelineInventoryView.of_inventory(pipelines().inventory(name)))

    @router.delete(
        "/pipelines/<name>",
        summary="Delete a pipeline (its promotions are kept)",
        tags=[TAG],
        operation_id="deletePipeline",
        responses=responses(200, PipelineView, "Deleted", 404),
    )
    def delete_pipeline(name: PipelineName) -> Response[PipelineView]:
        return model_response(200, PipelineView.of(pipelines().delete(name)))

    @router.post(
        "/pipelines/<name>/promote",
        summary="Promote into an environment what the environment before it runs",
        description=(
            "Takes the version the previous environment runs now. Same function: that version moves onto "
            "the environment's alias. Another function (or account): the same artifact is carried there, "
            "published with a CodeSha256 precondition and checked, then promoted. Guards: the version "
            "entered the previous environment through a SUCCEEDED promotion (override with a reason, "
            "where the pipeline allows it); no freeze window is on (409 with frozen_until); a protected "
            "environment waits in AWAITING_APPROVAL. Answers like POST /promotions."
        ),
        tags=[TAG],
        operation_id="promotePipeline",
        responses=responses(
            202,
            PromotionAccepted,
            "Accepted: the workflow started",
            404,
            409,
            415,
            headers=LOCATION,
            notes={
                404: "No such pipeline",
                409: "A freeze window is on (body has frozen_until), the target is busy (active_promotion), "
                "or a request with the same Idempotency-Key is in progress",
                422: "Unknown environment, a version that is not the previous environment's, a guard, a "
                "mismatch between the functions (runtime, architecture, package type, layers), or an "
                "override the pipeline does not allow",
            },
        ),
    )
    def promote_pipeline(
        name: PipelineName, body: PipelinePromoteBody, idempotency_key: IdempotencyKey = None
    ) -> Response[PromotionAccepted]:
        actor = actor_of(router.current_event)
        request = PipelinePromotionRequest(pipeline=name, **body.model_dump())

        def promote() -> dict[str, Any]:
            try:
                promotion = pipelines().promote(request, actor)
            except NotFound as error:
                if error.field == "name":
                    raise
                raise InvalidRequest(error.message, field="to", **error.details) from error
            return PromotionAccepted.of(promotion).model_dump(mode="json")

        answer = idempotency.run(
            idempotency_key,
            promote,
            actor=actor,
            operation="pipeline-promote",
            promotion=name,
            payload=body.model_dump(mode="json"),
            lambda_context=lambda_context_of(router),
        )
        location = f"{base_path(router.current_event)}/promotions/{answer['id']}"
        accepted: Response[Any] = Response(202, content_types.APPLICATION_JSON, answer, headers={"Location": location})
        return accepted

    return router
