# The card request's photo goes into the holder's documents: each test's safe in a folder of
# its own, as in the safe's tests.
from tests.documents_vault.conftest import vault_dir  # noqa: F401
