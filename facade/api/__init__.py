"""The facade's HTTP surface: routers, dependencies and the error boundary."""
