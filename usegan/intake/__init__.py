"""Every way into the archive is one path: read -> validate -> pseudonymise -> header facts -> crop -> case."""
