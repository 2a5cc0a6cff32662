# Export real meta-analysis datasets from the R package metadat to data/raw/.
#
# Usage (from the repository root; `make data` runs this and then refreshes
# the checksums in data/datapackage.json):
#
#     Rscript data/scripts/import_metadat.R
#     .venv/bin/python -m analysis.datasets --write-checksums
#
# Needs R >= 4.0 with metadat and jsonlite (Debian: r-cran-metadat, r-cran-jsonlite).
# Debian's metadat keeps its data in a lazy-load database, so the datasets are
# loaded with data(..., package = "metadat"), never read from files.
#
# Output, for each dataset NAME below:
#   data/raw/NAME.csv   UTF-8, comma-separated, header row, LF line endings,
#                       character columns quoted, numbers unquoted, missing = empty
#                       field, doubles printed with 15 significant digits
#                       (format(x, digits = 15), the precision R itself prints
#                       faithfully), integers as integers: re-running the script
#                       gives byte-identical files for the same metadat version.
#   tests/fixtures/datasets_summary.json
#                       R's own summaries of every column (means, sums, SDs, minima,
#                       maxima, missing counts, distinct values), the metadat and R
#                       versions: the Python tests compare the loaded files with it.
#
# The data are exported unchanged (no rows or columns added, dropped or recoded).
# metadat is GPL (>= 2); see data/LICENSE-metadat.md.

suppressPackageStartupMessages({
  library(jsonlite)
})

datasets <- c(
  "dat.lopez2019",        # CBT for depression: components and delivery (network MA)
  "dat.landenberger2005", # CBT for offenders: recidivism, CBT components as moderators
  "dat.hasselblad1998",   # counselling for smoking cessation (multi-arm, network MA)
  "dat.molloy2014",       # conscientiousness and medication adherence (correlations)
  "dat.bcg",              # BCG vaccine: the canonical meta-regression example
  "dat.aloe2013"          # supervision quality in mental-health workers (t, R^2)
)

# Repository root: two levels above this script (data/scripts/), or the working
# directory when the script path is unknown.
script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
root <- if (length(script_arg) == 1) {
  normalizePath(file.path(dirname(sub("^--file=", "", script_arg)), "..", ".."))
} else {
  getwd()
}
raw_dir <- file.path(root, "data", "raw")
fixture <- file.path(root, "tests", "fixtures", "datasets_summary.json")
dir.create(raw_dir, showWarnings = FALSE, recursive = TRUE)
dir.create(dirname(fixture), showWarnings = FALSE, recursive = TRUE)

metadat_version <- utils::packageDescription("metadat")$Version
r_version <- paste(R.version$major, R.version$minor, sep = ".")

format_column <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) {
    out <- ifelse(x, "true", "false")
  } else if (is.integer(x)) {
    out <- as.character(x)
  } else if (is.double(x)) {
    out <- vapply(x, function(v) format(v, digits = 15, scientific = 10), character(1))
    if (any(!is.finite(x) & !is.na(x))) stop("non-finite number in a numeric column")
  } else if (is.character(x)) {
    out <- enc2utf8(x)
    if (any(!is.na(out) & out == "")) {
      stop("an empty string would be indistinguishable from a missing value")
    }
  } else {
    stop("unsupported column type: ", class(x)[1])
  }
  out[is.na(x)] <- NA_character_
  out
}

summarise_column <- function(x) {
  n_missing <- sum(is.na(x))
  if (is.numeric(x)) {
    y <- x[!is.na(x)]
    list(type = if (is.integer(x)) "integer" else "number",
         n_missing = n_missing,
         sum = sum(y), mean = mean(y), sd = if (length(y) > 1) sd(y) else NA,
         min = min(y), max = max(y))
  } else {
    y <- as.character(x[!is.na(x)])
    list(type = "string", n_missing = n_missing,
         n_distinct = length(unique(y)), first = y[1], last = y[length(y)])
  }
}

summary <- list(
  generated_by = "data/scripts/import_metadat.R",
  metadat_version = metadat_version,
  r_version = r_version,
  datasets = list()
)

for (name in datasets) {
  env <- new.env()
  data(list = name, package = "metadat", envir = env)
  df <- as.data.frame(env[[name]], stringsAsFactors = FALSE)
  is_text <- vapply(df, function(x) is.character(x) || is.factor(x), logical(1))
  out <- as.data.frame(lapply(df, format_column), stringsAsFactors = FALSE,
                       check.names = FALSE, optional = TRUE)
  names(out) <- names(df)
  path <- file.path(raw_dir, paste0(name, ".csv"))
  con <- file(path, open = "wb", encoding = "UTF-8")
  write.table(out, con, sep = ",", dec = ".", quote = which(is_text),
              qmethod = "double", row.names = FALSE, col.names = TRUE,
              na = "", eol = "\n", fileEncoding = "UTF-8")
  close(con)
  summary$datasets[[name]] <- list(
    file = paste0("data/raw/", name, ".csv"),
    n_rows = nrow(df), n_cols = ncol(df), columns = names(df),
    summary = lapply(df, summarise_column)
  )
  cat(sprintf("%-22s %4d rows x %2d columns -> %s\n", name, nrow(df), ncol(df), path))
}

writeLines(toJSON(summary, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           fixture, useBytes = TRUE)
cat(sprintf("metadat %s, R %s; summary -> %s\n", metadat_version, r_version, fixture))
