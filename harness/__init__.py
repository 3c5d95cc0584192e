"""What tests, benchmarks and scripts share to drive the app from outside: its server process
(``server``) and visitors that speak Streamlit's websocket protocol (``protocol``)."""
