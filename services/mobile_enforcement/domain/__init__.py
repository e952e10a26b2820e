"""mobile_enforcement's rules: entities, checklists, the spot-check draw, inspections, penalty cases."""
