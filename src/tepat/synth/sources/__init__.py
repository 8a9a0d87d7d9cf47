"""Agency extracts (Dukcapil, BPJS, survey, ASN payroll, PLN) built from the true population."""
