"""Local stand-ins for Google and GitHub (the real services cannot be reached from tests).

Each is a small Starlette app serving the provider's endpoint shapes, run with uvicorn on 127.0.0.1
(:func:`tests.support.asgi_server.serve_asgi`). They check what the real services check that matters
to Portico (client authentication, redirect URI, PKCE S256 verifier) and record the requests they get.
"""
