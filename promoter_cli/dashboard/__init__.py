"""``promoter dashboard``: a web UI on 127.0.0.1 that reads and steers promotions through the API.

``server`` is the local HTTP server and its signing proxy; ``static/`` holds the page (HTML, CSS and
JavaScript, no build step, nothing from the internet), shipped as package data.
"""

DEFAULT_PORT = 3100  # here, not in server: ``promoter --help`` builds the parser without importing http.server
