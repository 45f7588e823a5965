from tests.api.conftest import api_service, gateway  # noqa: F401 - the API fixtures, reused
