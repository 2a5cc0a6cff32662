# Export real patient-level trial data to data/trials/ (their own Frictionless data package,
# data/trials/datapackage.json, apart from the meta-analysis package in data/).
#
# Usage (from the repository root):
#
#     Rscript data/scripts/import_trials.R
#     .venv/bin/python -c "from analysis import datasets; datasets.write_checksums('data/trials')"
#
# Needs R >= 4.0 with HSAUR3 (Debian: r-cran-hsaur3) and mice (Debian: r-cran-mice).
#
# Output:
#   data/trials/btheb.csv  the Beat the Blues trial (HSAUR3::BtheB, 100 patients, BDI-II at
#                          baseline, 2, 3, 5 and 8 months), UTF-8, comma-separated, LF line
#                          endings, missing = empty field. The values are exported unchanged;
#                          one column is ADDED in front: `patient`, the row number in
#                          HSAUR3's data frame (1..100), as a primary key. Factors are written
#                          as their labels. Re-running gives a byte-identical file for the
#                          same HSAUR3 version.
#   data/trials/fdd.csv    the SE Fireworks disaster trial (mice::fdd, 52 children, EMDR vs
#                          CBT; PTSD and other symptom scales at T1 pre-treatment, T2
#                          post-treatment, T3 three-month follow-up). Same format. Exported
#                          unchanged: the 65 columns in mice's order, nothing added (`id` is
#                          already a key). Columns whose values are all whole numbers are
#                          written as integers; the others (prorated scale totals) with 17
#                          significant digits ("%.17g"), so the doubles read back exactly.
#                          Factors are written as their labels.
# HSAUR3 is GPL-2 (Hothorn & Everitt); the data come from Proudfoot et al. (2003).
# mice is GPL-2 | GPL-3 (van Buuren & Groothuis-Oudshoorn); fdd comes from de Roos et al.
# (2011), with some person covariates reshuffled by mice's authors (see help(fdd, package="mice")).

script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
root <- if (length(script_arg) == 1) {
  normalizePath(file.path(dirname(sub("^--file=", "", script_arg)), "..", ".."))
} else {
  getwd()
}
out_dir <- file.path(root, "data", "trials")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

data("BtheB", package = "HSAUR3")
df <- data.frame(patient = seq_len(nrow(BtheB)), BtheB, stringsAsFactors = FALSE)
for (v in c("drug", "length", "treatment")) df[[v]] <- as.character(df[[v]])
for (v in grep("^bdi", names(df), value = TRUE)) {
  stopifnot(all(is.na(df[[v]]) | df[[v]] == round(df[[v]])))
  df[[v]] <- as.integer(df[[v]])  # BDI-II totals are whole numbers
}
path <- file.path(out_dir, "btheb.csv")
con <- file(path, open = "wb", encoding = "UTF-8")
write.table(df, con, sep = ",", quote = which(vapply(df, is.character, logical(1))), qmethod = "double",
            row.names = FALSE, col.names = TRUE, na = "", eol = "\n", fileEncoding = "UTF-8")
close(con)
cat(sprintf("BtheB: %d rows x %d columns -> %s (HSAUR3 %s)\n", nrow(df), ncol(df), path,
            utils::packageDescription("HSAUR3")$Version))

# ---------------------------------------------------------------- mice::fdd
data("fdd", package = "mice")
f <- fdd
quote_cols <- integer(0)
for (i in seq_along(f)) {
  x <- f[[i]]
  attributes(x)[setdiff(names(attributes(x)), c("levels", "class"))] <- NULL  # SPSS value.labels
  if (is.factor(x)) {
    f[[i]] <- as.character(x)
    quote_cols <- c(quote_cols, i)
  } else if (all(is.na(x) | x == round(x))) {
    f[[i]] <- as.integer(x)
  } else {
    f[[i]] <- ifelse(is.na(x), NA_character_, sprintf("%.17g", x))  # exact round trip
    stopifnot(identical(as.numeric(f[[i]]), as.numeric(unclass(x))))
  }
}
stopifnot(identical(names(f), names(fdd)), nrow(f) == 52L)
path <- file.path(out_dir, "fdd.csv")
con <- file(path, open = "wb", encoding = "UTF-8")
write.table(f, con, sep = ",", quote = quote_cols, qmethod = "double",
            row.names = FALSE, col.names = TRUE, na = "", eol = "\n", fileEncoding = "UTF-8")
close(con)
cat(sprintf("fdd: %d rows x %d columns -> %s (mice %s)\n", nrow(f), ncol(f), path,
            utils::packageDescription("mice")$Version))
