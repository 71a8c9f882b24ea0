"""Every change to cards and readers, one module per use case (ARCHITECTURE.md); callers
import from the module that does the thing."""
