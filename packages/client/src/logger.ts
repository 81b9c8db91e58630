// The logging surface the client needs: a subset of pino's Logger, so a pino child logger fits.
type LogFn = (obj: object, msg?: string) => void;

export interface Logger {
  debug?: LogFn;
  info?: LogFn;
  warn?: LogFn;
  error?: LogFn;
}
