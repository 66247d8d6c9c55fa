"""Prefect flows: orchestration only. The work itself lives in junkan/ behind tasks/."""
