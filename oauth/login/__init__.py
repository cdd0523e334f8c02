"""Sign-in: the login session (browser cookie at the authorization server) and who may sign in.

Other packages use :mod:`oauth.login.api`, the package's one contract; the providers implement it.
"""
