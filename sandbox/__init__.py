"""The local sandbox: ``tunebot demo`` runs the real handlers against an embedded AWS
and a Slack stand-in page, all on 127.0.0.1."""
