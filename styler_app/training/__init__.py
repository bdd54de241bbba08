"""The Training studio: set up, probe, run, watch, stop, resume and compare training runs.

Runs are ``styler train`` child processes (``engine.train.supervise`` launched detached by
QProcess), so a crash or an out-of-memory error cannot take the window down and a run can
outlive the window. Everything the panel shows is read from the run folder."""
