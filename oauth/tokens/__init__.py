"""The token kernel shared by the authorization server and the resource server: signing keys,
access tokens (issue and verify), protected resources and audiences, the revocation list."""
