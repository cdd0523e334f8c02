"""Sign-in: the login session (browser cookie at the authorization server) and who may sign in.

Other packages use :mod:`oauth.login.api` (re-exported here); the providers implement it.
"""

from oauth.login.api import (
    AmbiguousEmailError,
    SignedInUser,
    UserAccount,
    accounts_by_email,
    current_user,
    disable_user,
    find_account,
    list_users,
    login_redirect,
    user_may_continue,
    users_table,
)

__all__ = [
    "AmbiguousEmailError",
    "SignedInUser",
    "UserAccount",
    "accounts_by_email",
    "current_user",
    "disable_user",
    "find_account",
    "list_users",
    "login_redirect",
    "user_may_continue",
    "users_table",
]
