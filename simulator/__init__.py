"""The district simulator and load generator.

It plays a day of the demo district through the public interfaces only: the services' gRPC
contracts (generated stubs `supervision.*`) and the gateway's HTTP complaint form and JSON reads.
It never reads a database and never imports a service's package; `simulator.center` imports
`services.monolith`, and only to start the center for the simulator's own runs.

Two ways to drive the same actions:

- a day (`--speed`): arrivals per office (Poisson, by office size and hour of day) and every
  follow-up a real office would do (accept, mediate, inspect, file, close ...) on a simulated
  clock running 1x to 1000x real time;
- a load (`--rate`, `--mix`, `--duration`): a target request rate with a weighted mix of actions.

Both report throughput, errors and latency per action, and exit non-zero on any error: every
request the simulator sends is valid, so a refusal is a bug on one side or the other.
"""
