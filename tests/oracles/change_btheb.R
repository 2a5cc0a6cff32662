# Oracle for analysis.change on real data: Jacobson & Truax (1991) reliable change and
# clinical significance for the Beat the Blues trial (data/trials/btheb.csv), computed here
# with base R independently of the Python code, plus R's summaries of the exported file.
#   Rscript tests/oracles/change_btheb.R   ->  tests/fixtures/change_btheb.json
# Settings (as in notebook 05): pre = bdi.pre, post = bdi.2m (end of treatment);
# reliability .91 (BDI-II coefficient alpha in 140 outpatients, Beck, Steer, Ball & Ranieri
# 1996, J Pers Assess 67(3), abstract); clinical norms = this sample's baseline mean and SD;
# cut-off a = M - 2 SD; reliable if |RC| > 1.96; a post score equal to the cut-off is not
# "functional".
suppressPackageStartupMessages(library(jsonlite))
d <- read.csv(file.path("data", "trials", "btheb.csv"), stringsAsFactors = FALSE, check.names = FALSE)
r_xx <- 0.91
m_clin <- mean(d$bdi.pre); sd_clin <- sd(d$bdi.pre)
s_diff <- sd_clin * sqrt(2) * sqrt(1 - r_xx)
a <- m_clin - 2 * sd_clin
rc <- (d$bdi.2m - d$bdi.pre) / s_diff
cat_ <- ifelse(is.na(rc), "missing",
        ifelse(rc < -1.96 & d$bdi.pre >= a & d$bdi.2m < a, "recovered",
        ifelse(rc < -1.96, "improved", ifelse(rc > 1.96, "deteriorated", "unchanged"))))
by_arm <- lapply(split(cat_, d$treatment), function(x) as.list(table(factor(x,
  levels = c("recovered", "improved", "unchanged", "deteriorated", "missing")))))
cols <- grep("^bdi", names(d), value = TRUE)
out <- list(
  reliability = r_xx, m_clin = m_clin, sd_clin = sd_clin, s_diff = s_diff, cutoff_a = a,
  rc = rc, category = cat_, counts_by_arm = by_arm,
  summary = lapply(d[cols], function(x) list(n_missing = sum(is.na(x)), mean = mean(x, na.rm = TRUE),
                                               sd = sd(x, na.rm = TRUE), min = min(x, na.rm = TRUE),
                                               max = max(x, na.rm = TRUE))),
  n_rows = nrow(d), treatment_counts = as.list(table(d$treatment))
)

# SE Fireworks disaster trial (data/trials/fdd.csv, mice::fdd): PTSD-RI total by parent
# report, yp1 (T1, before treatment) -> yp2 (T2, after treatment). Reliability 0.90 is an
# ILLUSTRATIVE value for the oracle (not a published PTSD-RI figure); clinical norms = this
# sample's T1 mean and SD (children with both values or not: all observed yp1); cut-off a.
f <- read.csv(file.path("data", "trials", "fdd.csv"), stringsAsFactors = FALSE, check.names = FALSE)
f_rxx <- 0.90
f_m <- mean(f$yp1, na.rm = TRUE); f_sd <- sd(f$yp1, na.rm = TRUE)
f_sdiff <- f_sd * sqrt(2) * sqrt(1 - f_rxx)
f_a <- f_m - 2 * f_sd
f_rc <- (f$yp2 - f$yp1) / f_sdiff
f_cat <- ifelse(is.na(f_rc), "missing",
         ifelse(f_rc < -1.96 & f$yp1 >= f_a & f$yp2 < f_a, "recovered",
         ifelse(f_rc < -1.96, "improved", ifelse(f_rc > 1.96, "deteriorated", "unchanged"))))
num <- names(f)[vapply(f, is.numeric, logical(1))]
out$fdd <- list(
  pre = "yp1", post = "yp2", reliability = f_rxx, m_clin = f_m, sd_clin = f_sd, s_diff = f_sdiff,
  cutoff_a = f_a, rc = f_rc, category = f_cat,
  counts_by_arm = lapply(split(f_cat, f$trt), function(x) as.list(table(factor(x,
    levels = c("recovered", "improved", "unchanged", "deteriorated", "missing"))))),
  n_rows = nrow(f), n_cols = ncol(f), trt_counts = as.list(table(f$trt)),
  summary = lapply(f[num], function(x) list(n_missing = sum(is.na(x)), sum = sum(x, na.rm = TRUE)))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), file.path("tests", "fixtures", "change_btheb.json"))
message("wrote tests/fixtures/change_btheb.json")
