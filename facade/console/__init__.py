"""The web console for people: sign-in, indicators, submissions, registry and audit pages."""
