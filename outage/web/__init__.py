"""The web layer: the HTTP routes of the app, over the application's modules.

`hsm_console` holds the HSM dispatch console's routes (the seed's `disparo_hsm`).
"""
