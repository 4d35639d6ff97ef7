"""Who is calling: the identity of a request, from a Keystone token, a static token, or (for
development) the noauth headers. ``make_authenticator`` picks the mode the settings name."""
