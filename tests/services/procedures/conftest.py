import pytest

from services.procedures.types import unregister_procedure_type

from .factories import SAMPLE, register_sample


@pytest.fixture(autouse=True)
def sample_type():
    kind = register_sample()
    yield kind
    unregister_procedure_type(SAMPLE)
