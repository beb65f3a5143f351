"""Stand-ins shared by the tests, the benchmarks and the sandbox: in-memory services, a local
Slack Web API and moto seeding helpers. Development only: never part of the Lambda package."""
