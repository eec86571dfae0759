"""The web layer: the Flask app and its routes, over the application's modules.

`app` (the factory), `api` (REST API and the request helpers), `hsm_console` (the HSM
dispatch console, the original `disparo_hsm`), `dashboard` (the pages), `auth` (logins,
roles, CSRF) with `login_throttle`, `metrics`, `demo` (the demo's control routes) and
`proxies` (which proxy may say the client's address). Nothing below imports this layer.
"""
