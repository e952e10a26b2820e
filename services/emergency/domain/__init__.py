"""emergency's rules: grading I-IV, response plans and their actions, the timeline, drills."""
