// One problem found in a configuration file: where it is and what is wrong.

export interface ConfigIssue {
  /** Dotted path into the file, e.g. "layout.compartments.3.bus"; "(root)" for the whole file. */
  path: string;
  message: string;
}
