"""complaints' rules and use cases: intake and routing, statutory clocks from versioned rule sets, the
handling workflow of complaints, reports and inquiries, and the protection of complainants' personal
data. The use cases (Complaints, Directory, DeadlineSweep) share one Workspace."""
