"""One file per schema revision. Alembic reads them by path; this file only makes the folder a
package, so packaging tools ship it with the app."""
