"""Entry point for `python deployments/serve.py`: same as `junkan serve`."""

from flows.serve import serve_all

if __name__ == "__main__":
    serve_all()
