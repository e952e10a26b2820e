"""assessment's rules: the scheme, periods and their scores, improvement plans, officers' routine
assessment. Plain Python: no gRPC, no nameko, no HTTP."""
