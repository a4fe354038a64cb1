// Package config loads, validates and prints impact's YAML configuration.
//
// Loading is strict: unknown keys and wrongly typed values are errors that
// name the file, line and key, and every problem in a file is reported at
// once in a *ValidationError. Values may reference the environment as
// ${VAR}; every Secret field may instead be read from a file with
// <key>_file. Defaults are the Default* values, applied before decoding, so
// a partial file keeps the defaults of whatever it leaves out.
//
// The package imports nothing of the project: the collectors registry
// hands the loader the registered sources' config types and the allowed
// categories (model.Categories) through LoadOptions.
//
// Secrets are of type Secret, which prints as "<secret>" in fmt, YAML and
// JSON; no error from this package contains a secret's value.
package config
