export function toolsCache(): string;
export function installTool(name: string, packages: string[], npmArgs?: string[]): string;
