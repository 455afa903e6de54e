// String.prototype.toWellFormed/isWellFormed are ES2024, present in Node 20 (V8 11.3)
// and 22; the project's lib stays ES2023 so nothing newer than Node 20 slips in.
interface String {
  toWellFormed(): string;
  isWellFormed(): boolean;
}
