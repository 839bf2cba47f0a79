// Which line of GNU tar's stderr says why it failed. Warnings come first
// (`Removing leading '../' from member names`), then the error, then follow-ons
// and a summary (`Skipping to next header`, `Exiting with failure status due to
// previous errors`): the first line that is none of those is the error.

// tar's closing lines, which say only that something failed before.
const SUMMARY = /^tar: (Exiting with failure status due to previous errors|Error is not recoverable: exiting now|Child returned status \d+|Skipping to next header)$/;

// tar's warnings (its WARN and WARNOPT messages met when extracting), which do not fail it.
const WARNING = new RegExp(
  '^tar: (' +
    [
      "Removing leading [`'].*[`'] from (member names|hard link targets)",
      'A lone zero block at \\d+',
      'Ignoring unknown extended header keyword',
      'Record size = \\d+ blocks',
      "Substituting [`']\\.' for empty (member name|hard link target)",
      'Extracting contiguous files as regular files',
      '.*: implausibly old time stamp ',
      '.*: time stamp .* in the future',
      ".*: Unknown file type '.', extracted as normal file",
      '.*: Warning: ',
    ].join('|') +
    ')',
);

/** tarErrorLine picks the line of GNU tar's stderr that says why it exited with status. */
export function tarErrorLine(stderr: string, status: number | null): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => !SUMMARY.test(line) && !WARNING.test(line)) ?? lines.find((line) => !SUMMARY.test(line)) ?? lines[0] ?? `tar exited with status ${status}`;
}
