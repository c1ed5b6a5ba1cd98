/** Cells a spreadsheet would run as a formula: each is defused with a leading single quote (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell (RFC 4180), safe to open in a spreadsheet. */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const defused = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

export function csvLine(cells: readonly (string | null)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Starts every CSV export: without it Excel reads UTF-8 as Windows-1252 and shows « Ã‰vry » for « Évry ». */
export const CSV_BOM = '\uFEFF';

/** The headers of a CSV download: an attachment under `filename`, never kept by a cache (clerks' exports). */
export function csvDownloadHeaders(filename: string): Record<string, string> {
  return { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${filename}"`, 'Cache-Control': 'no-store' };
}
