"""The authorization server (Authlib) and sign-in through upstream identity providers."""
