"""The sandbox a person can drive (``make sandbox``): moto's server, the API behind API Gateway."""

from .serve import (
    API_SETTINGS,
    READY_LINE,
    PortInUse,
    SandboxServer,
    ServerProcess,
    client_environment,
    endpoint_session,
    free_port,
    main,
    promoter_command,
)

__all__ = [
    "API_SETTINGS",
    "READY_LINE",
    "PortInUse",
    "SandboxServer",
    "ServerProcess",
    "client_environment",
    "endpoint_session",
    "free_port",
    "main",
    "promoter_command",
]
