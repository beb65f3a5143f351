"""One applier module per ``Change`` type; ``aws.appliers.registry`` picks the right one."""
