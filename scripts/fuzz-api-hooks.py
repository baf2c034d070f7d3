"""schemathesis hooks for scripts/fuzz-api.sh (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

# tus PATCH bodies are raw bytes under their own media type (application/offset+octet-stream).
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
