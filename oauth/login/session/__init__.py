"""The login session: sealing, reading and refreshing its cookie, starting it after the access
rules admit an identity, and the pages every sign-in ends with."""
