# Timing helper shared by the benchmark R scripts (sourced; not part of the package).
# time_it(f, reps): call f() `reps` times (default: the calling script's global `reps`),
# timing each call with proc.time() (elapsed); returns the times and the last result.
# (A single repetition serialises as a scalar; the Python side takes np.median of either.)
time_it <- function(f, reps = get("reps", envir = globalenv())) {
  times <- numeric(reps); res <- NULL
  for (i in seq_len(reps)) {
    t0 <- proc.time()[["elapsed"]]
    res <- f()
    times[i] <- proc.time()[["elapsed"]] - t0
  }
  list(times = times, res = res)
}
