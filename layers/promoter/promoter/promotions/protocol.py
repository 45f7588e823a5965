"""The promotion protocol: the record is the single point of serialisation.

- **Record writes** are conditional on the record's ``rev``; a conflict re-reads and re-applies.
  A change to a final status is written in one transaction with the release of the target's lock
  and the alarm watches, so whoever ends a promotion (workflow, alarm listener, repair) frees the
  target in the same step. A final status never changes again.
- **Status changes** go to an outbox in the record and are announced on the bus after the write
  by the writer that made them. Another writer announces a change only once its writer can no
  longer be running (``ANNOUNCE_LEASE_SECONDS``, it died between its write and its put); on a
  final record, which nobody writes again, the reconciler does (``announce_orphans``). So each
  change is announced once unless its writer crashed between its put and dropping it from the
  outbox (then twice; ``sequence`` lets consumers drop the repeat).
- **Alias writes** are claimed in the record first (``AliasWriter``). The write carries the
  RevisionId last confirmed; when it is refused, the alias is read once and judged against every
  writer's claims: a state some writer of this promotion claimed is ours (adopted), a change that
  leaves the routing as confirmed (a description edit) is adopted too, anything else is drift.
- **How it ends** (``Promotion.ending``) is decided once, by whoever gets there first: an accepted
  abort, a failed gate, the alarm listener, drift, or the last check (SUCCEEDED). Forward writes
  are refused once it is decided.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Literal

from .. import clock, observability
from ..aws.errors import was_refused
from ..aws.events import STATUS_CHANGED
from ..errors import AliasDrift, PromotionAborted, PromotionEnded, RecordConflict
from ..models import AliasClaim, AliasTarget, Ending, Promotion, Status, StatusChange
from .context import Context

MAX_WRITE_ATTEMPTS = 6
MAX_CONFLICT_RETRIES = 12
ANNOUNCE_LEASE_SECONDS = 900  # no Lambda runs longer: a change older than this lost its announcer

Change = Callable[[Promotion], None]
Read = tuple[Promotion, int]  # a record and the rev it was read at


def ensure_live(promotion: Promotion) -> None:
    """Raise if the promotion ended or is ending (for tasks that would move it forward)."""
    if promotion.status.is_final:
        raise PromotionEnded(f"promotion already ended {promotion.status}: {promotion.outcome_reason}")
    ending = promotion.ending
    if ending is not None:
        if ending.status is Status.ABORTED:
            raise PromotionAborted(ending.reason)
        raise PromotionEnded(f"promotion is ending {ending.status}: {ending.reason}")


def end(promotion: Promotion, actor: str) -> None:
    """Make the record final with its decided ending (a change for ``Records.mutate``)."""
    if promotion.status.is_final:
        return
    ending = promotion.ending or Ending(status=Status.FAILED, reason="ended with no recorded cause", actor=actor)
    promotion.ending = ending
    promotion.status = ending.status
    promotion.outcome_reason = ending.reason
    promotion.ended_at = clock.now()
    promotion.hold = None  # the task token stays: whoever ended it answers the wait
    promotion.record(actor, "finished", ending.reason)


class Records:
    """Reads and conditional writes of promotion records, with their announcements."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def get(self, promotion_id: str) -> Promotion:
        """The record for work: its events are not read (``Reads.get`` reads them for views)."""
        return self.get_with_rev(promotion_id)[0]

    def get_with_rev(self, promotion_id: str) -> Read:
        """The record and its ``rev``, for a caller that writes it next (``mutate(read=...)``)."""
        promotion, rev = self.ctx.store.get_with_rev(promotion_id)
        return observability.bound(promotion), rev

    def mutate(self, promotion_id: str, change: Change, actor: str = "workflow", read: Read | None = None) -> Promotion:
        """Apply ``change`` to the record and write it; ``change`` may raise to refuse.

        ``read`` (a record just read, with its rev; the write takes it over) saves the first read:
        the write is conditional on that rev, so a record changed since is read again and
        ``change`` applied to it."""
        made: list[int] = []  # the status changes this write made: this writer announces them
        promotion = self._write(promotion_id, change, actor, made, read)
        self.announce(promotion, made)
        return promotion

    def finish(self, promotion_id: str, actor: str) -> Promotion:
        return self.mutate(promotion_id, lambda p: end(p, actor), actor)

    def _write(
        self, promotion_id: str, change: Change, actor: str, made: list[int] | None = None, read: Read | None = None
    ) -> Promotion:
        store = self.ctx.store
        for _ in range(MAX_CONFLICT_RETRIES):
            if made is not None:
                made.clear()
            promotion, rev = read if read is not None else store.get_with_rev(promotion_id)
            read = None  # a conflict means it is stale: read again
            before = promotion.status
            change(promotion)
            if before.is_final and promotion.status is not before:
                raise PromotionEnded(f"promotion already ended {before}")
            if promotion.status is not before:
                last = promotion.events[-1] if promotion.events else None
                promotion.unannounced.append(
                    StatusChange(
                        previous=before,
                        status=promotion.status,
                        at=clock.now(),
                        actor=last.actor if last else actor,
                        reason=promotion.outcome_reason or (last.message if last else ""),
                        sequence=promotion.event_count,
                    )
                )
                if made is not None:
                    made.append(promotion.unannounced[-1].sequence)
            try:
                if promotion.status.is_final and not before.is_final:
                    store.finish(promotion, rev)
                else:
                    store.save(promotion, rev)
                return observability.written(promotion, before)
            except RecordConflict:
                continue
        raise RecordConflict(f"promotion {promotion_id} kept changing; gave up after retries")

    def announce(self, promotion: Promotion, made: list[int] | None = None, read: Read | None = None) -> None:
        """Put pending status changes on the bus, then drop them from the outbox: all of them, or
        (after a write) those the write ``made`` and those whose writer died. Not another live
        writer's: it is between its write and its put, and announces them itself. ``read``: the
        record as just written, so the outbox's write needs no read first."""
        now, mine = clock.now(), set(made or ())
        pending = [
            c
            for c in promotion.unannounced
            if made is None or c.sequence in mine or (now - c.at).total_seconds() >= ANNOUNCE_LEASE_SECONDS
        ]
        if not pending:
            return
        for change in pending:
            self._put(promotion, change)
        sent = {c.sequence for c in pending}

        def drop(p: Promotion) -> None:
            p.unannounced = [c for c in p.unannounced if c.sequence not in sent]

        promotion.unannounced = self._write(promotion.id, drop, "workflow", read=read).unannounced

    def _put(self, promotion: Promotion, change: StatusChange) -> None:
        if not self.ctx.settings.event_bus_name:
            return
        self.ctx.events.put(
            self.ctx.settings.event_bus_name,
            STATUS_CHANGED,
            {
                "promotion_id": promotion.id,
                "function": promotion.function,
                "function_arn": promotion.function_arn,
                "alias": promotion.alias,
                "status": change.status.value,
                "previous_status": change.previous.value if change.previous else None,
                "stable_version": promotion.stable_version,
                "candidate_version": promotion.candidate_version,
                "current_weight": promotion.current_weight,
                "reason": change.reason,
                "actor": change.actor,
                "sequence": change.sequence,
                "at": change.at.isoformat(),
            },
        )


class AliasWriter:
    """Every alias write of a promotion, by any writer, goes through ``write``."""

    def __init__(self, ctx: Context, records: Records) -> None:
        self.ctx = ctx
        self.records = records

    def write(
        self,
        promotion_id: str,
        writer: str,
        direction: Literal["forward", "back"],
        target: AliasTarget,
        *,
        ending: Ending | None = None,
        guard: Change | None = None,
        read: Read | None = None,
    ) -> Promotion:
        """Claim, write with the confirmed RevisionId, confirm. Returns the record after the write.

        ``forward`` (traffic to the candidate) is refused once the promotion is ending; ``back``
        (to stable) first decides the ``ending`` if nobody has. Raises AliasDrift when the alias
        was changed by someone who is not a writer of this promotion; the ending is then FAILED
        and the alias is left as that someone set it. ``read`` (the record just read, with its
        rev) saves the claim's read: the alarm listener's rollback has read it already.
        """
        for _ in range(MAX_WRITE_ATTEMPTS):
            done = self._attempt(promotion_id, writer, direction, target, ending, guard, read)
            read = None
            if done is not None:
                return done
        raise RecordConflict(f"alias of promotion {promotion_id} kept changing; gave up after retries")

    def _attempt(
        self,
        promotion_id: str,
        writer: str,
        direction: Literal["forward", "back"],
        target: AliasTarget,
        ending: Ending | None,
        guard: Change | None,
        read: Read | None = None,
    ) -> Promotion | None:
        """One claim and one write; None when the write must be tried again on a newer RevisionId."""
        claim_id = secrets.token_hex(4)

        def claim(p: Promotion) -> None:
            if direction == "forward":
                ensure_live(p)
                if guard:
                    guard(p)
            elif p.ending is None and ending is not None and not p.status.is_final:
                p.ending = ending
            decided = p.ending is not None and (p.ending.leave_alias or p.ending.status is Status.SUCCEEDED)
            if p.status.is_final or decided:  # drift keeps someone else's alias; success keeps the candidate
                return
            p.claims = [c for c in p.claims if c.state == "pending" and c.base_revision == p.revision_id]
            base = p.revision_id or ""
            p.claims.append(
                AliasClaim(id=claim_id, writer=writer, direction=direction, target=target, base_revision=base)
            )

        promotion = self.records.mutate(promotion_id, claim, read=read)
        mine = next((c for c in promotion.claims if c.id == claim_id), None)
        if mine is None:  # ended, or drift was recorded: leave the alias alone
            return promotion
        # Already there, unless another writer's claim on the same RevisionId is in flight: its write
        # may still land, so ours must be written (and bump the RevisionId) to refuse it.
        in_flight = [
            c
            for c in promotion.claims
            if c.id != claim_id and c.state == "pending" and c.base_revision == mine.base_revision
        ]
        lambdas = self.ctx.lambdas_for(promotion)
        # The confirmed state is only what we last saw: settle without a write only if the alias's
        # RevisionId is still that one (someone may have changed it since; the write finds out).
        if (
            promotion.confirmed_alias == target
            and not in_flight
            and lambdas.get_alias(promotion.function_arn, promotion.alias).revision_id == mine.base_revision
        ):
            return self._settle(promotion_id, claim_id)
        try:
            written = lambdas.update_alias(
                promotion.function_arn, promotion.alias, target.version, target.weights, mine.base_revision
            )
        except AliasDrift:
            observed = lambdas.get_alias(promotion.function_arn, promotion.alias)
            base = mine.base_revision
            promotion = self.records.mutate(promotion_id, lambda p: _judge(p, observed, writer, base))
            if promotion.ending is not None and promotion.ending.leave_alias:
                raise AliasDrift(promotion.ending.reason) from None
            if promotion.confirmed_alias == target and promotion.revision_id == observed.revision_id:
                return self._settle(promotion_id, claim_id)
            return None
        except Exception as error:
            if was_refused(error):  # e.g. AccessDenied: not written, so not in flight for anyone
                self.records.mutate(promotion_id, lambda p: _withdraw(p, claim_id))
            raise
        return self.records.mutate(promotion_id, lambda p: _confirm(p, claim_id, mine.base_revision, written))

    def verify(self, promotion_id: str, writer: str) -> Promotion:
        """Look at the alias without writing it (before success is made final): a change since the
        confirmed RevisionId is judged as a refused write's would be (ours, adopted, or drift)."""
        promotion = self.records.get(promotion_id)
        observed = self.ctx.lambdas_for(promotion).get_alias(promotion.function_arn, promotion.alias)
        if observed.revision_id == promotion.revision_id:
            return promotion
        base = promotion.revision_id or ""
        return self.records.mutate(promotion_id, lambda p: _judge(p, observed, writer, base))

    def _settle(self, promotion_id: str, claim_id: str) -> Promotion:
        def done(p: Promotion) -> None:
            for c in p.claims:
                if c.id == claim_id:
                    c.state = "done"

        return self.records.mutate(promotion_id, done)


def _withdraw(p: Promotion, claim_id: str) -> None:
    p.claims = [c for c in p.claims if c.id != claim_id]


def _confirm(p: Promotion, claim_id: str, base: str, written: object) -> None:
    """Our write landed. It is the alias's state unless a later write (adopting ours) is confirmed."""
    for c in p.claims:
        if c.id == claim_id:
            c.state = "done"
    if p.revision_id == base:
        p.revision_id = written.revision_id  # type: ignore[attr-defined]
        p.confirmed_alias = AliasTarget(version=written.version, weights=written.weights)  # type: ignore[attr-defined]


def _judge(p: Promotion, observed: object, writer: str, base: str) -> None:
    """The alias moved past the confirmed RevisionId ``base``: ours (adopt) or someone else's (drift)."""
    version, weights, revision = observed.version, observed.weights, observed.revision_id  # type: ignore[attr-defined]
    if revision == p.revision_id:
        return
    if (p.revision_id or "") != base:
        return  # another writer confirmed a newer state meanwhile: what we saw may be older; try again
    pending = [c for c in p.claims if c.state == "pending" and c.base_revision == p.revision_id]
    ours = [c for c in pending if c.target.same_routing(version, weights)]
    unchanged = p.confirmed_alias is not None and p.confirmed_alias.same_routing(version, weights)
    if ours or unchanged:
        for c in ours:
            c.state = "done"
        if not ours:
            p.record(writer, "alias_edited", f"alias RevisionId changed without a routing change ({revision}); kept")
        p.revision_id = revision
        p.confirmed_alias = AliasTarget(version=version, weights=weights)
        return
    p.revision_id = revision
    p.confirmed_alias = AliasTarget(version=version, weights=weights)
    if p.status.is_final:
        return
    reason = (
        f"drift: alias {p.alias} of {p.function} was changed out of band to version {version} with routing "
        f"{weights or 'empty'}; that change was kept"
    )
    p.ending = Ending(status=Status.FAILED, reason=reason, actor=writer, leave_alias=True)
    p.record(writer, "drift", reason)
