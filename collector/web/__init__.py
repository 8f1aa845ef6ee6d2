"""The web app: the factory, the RA's and the PI's pages, sessions, access, HTTP hardening."""
