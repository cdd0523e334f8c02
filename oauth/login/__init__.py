"""Sign-in: the login session (browser cookie at the authorization server) and who may sign in.

This is the contract the authorization server uses; the sign-in providers implement it.
"""

from oauth.login.api import SignedInUser, current_user, login_redirect, user_may_continue
from oauth.login.users import disable_user

__all__ = ["SignedInUser", "current_user", "disable_user", "login_redirect", "user_may_continue"]
