"""What the served app adds around Streamlit (no Streamlit import here): the process-wide store and its
maintenance thread (:mod:`.process`), and the HTTP layer that keeps clinical content behind a signed-in session
(:mod:`.guard`: a sign-in form that sets an HttpOnly session cookie, and a check in front of ``/media``)."""
