// The docker CLI's natural order (fvbommel/sortorder's NaturalLess), which it sorts `port`'s lines in:
// runs of digits compare by value and come before any other character; the rest compares byte by byte.

const isDigit = (code: number) => code >= 48 && code <= 57;

/** naturalCompare orders a and b as the docker CLI's NaturalLess does: negative when a sorts first. */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const digitA = isDigit(a.charCodeAt(i));
    const digitB = isDigit(b.charCodeAt(j));
    if (digitA !== digitB) return digitA ? -1 : 1;
    if (!digitA) {
      if (a[i] !== b[j]) return a[i] < b[j] ? -1 : 1;
      i++;
      j++;
      continue;
    }
    // Numbers: leading zeros aside, the shorter is smaller, then the text decides, then fewer zeros first.
    const zerosA = i;
    const zerosB = j;
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    const startA = i;
    const startB = j;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const numberA = a.slice(startA, i);
    const numberB = b.slice(startB, j);
    if (numberA.length !== numberB.length) return numberA.length - numberB.length;
    if (numberA !== numberB) return numberA < numberB ? -1 : 1;
    if (startA - zerosA !== startB - zerosB) return startA - zerosA - (startB - zerosB);
  }
  return (a.length - i) - (b.length - j);
}
