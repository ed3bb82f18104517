// Finds `any` in the public types of installed packages: walks every export of every entry point through the
// type checker (functions, classes, members, parameters, return types, type arguments) and reports each path
// that ends in `any`, whether written out or left by a name the declarations cannot resolve.

import ts from 'typescript';

/** Where a declaration lives decides whether its members are ours to walk (lib and @types members are not). */
function isPackageDeclaration(decl: ts.Declaration, packageRoots: readonly string[]): boolean {
  const file = decl.getSourceFile().fileName;
  return packageRoots.some((root) => file.startsWith(root));
}

function isHidden(symbol: ts.Symbol): boolean {
  if (symbol.name.startsWith('#') || symbol.name.startsWith('__')) return true;
  return (symbol.declarations ?? []).some(
    (d) =>
      ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) ||
      (ts.isPropertyDeclaration(d) || ts.isMethodDeclaration(d) ? ts.isPrivateIdentifier(d.name) : false),
  );
}

/**
 * Returns one line per public path whose type is `any`, e.g. `@graft/tensor.WebGpuBackend#gpuDevice`.
 * `entryFiles` maps each specifier ('@graft/data/node') to its resolved declaration file in `program`;
 * `packageRoots` are the folders whose declarations count as public API (node_modules/@graft/).
 */
export function findAnyInPublicTypes(
  program: ts.Program,
  entryFiles: ReadonlyMap<string, string>,
  packageRoots: readonly string[],
): string[] {
  const checker = program.getTypeChecker();
  const leaks: string[] = [];
  const seenTypes = new Set<ts.Type>();
  const seenSymbols = new Set<ts.Symbol>();

  const typeOf = (symbol: ts.Symbol): ts.Type => {
    const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
    return decl ? checker.getTypeOfSymbolAtLocation(symbol, decl) : checker.getTypeOfSymbol(symbol);
  };

  const visitSignature = (sig: ts.Signature, path: string, depth: number): void => {
    for (const param of sig.getParameters()) visitType(typeOf(param), `${path}(${param.name})`, depth + 1);
    visitType(sig.getReturnType(), `${path}→return`, depth + 1);
  };

  const visitType = (type: ts.Type, path: string, depth: number): void => {
    if (type.flags & ts.TypeFlags.Any) {
      leaks.push(path);
      return;
    }
    if (depth > 8 || seenTypes.has(type)) return;
    seenTypes.add(type);
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) visitType(t, path, depth + 1);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    const objectType = type as ts.ObjectType;
    const visitArguments = (args: readonly ts.Type[], parameters: readonly ts.TypeParameter[]): void =>
      args.forEach((arg, i) => {
        // `Iterable<T>` is `Iterable<T, any, any>`: an `any` that is the library's own default is not ours.
        const fallback = parameters[i] && checker.getDefaultFromTypeParameter(parameters[i]);
        if (arg.flags & ts.TypeFlags.Any && fallback && fallback.flags & ts.TypeFlags.Any) return;
        visitType(arg, `${path}<${i}>`, depth + 1);
      });
    if (objectType.objectFlags & ts.ObjectFlags.Reference) {
      const reference = objectType as ts.TypeReference;
      visitArguments(checker.getTypeArguments(reference), reference.target.typeParameters ?? []);
    }
    if (type.aliasSymbol && type.aliasTypeArguments) {
      // Record<string, any> and other aliases: their arguments, with the alias's own defaults.
      const aliasParameters = type.aliasSymbol.declarations
        ?.flatMap((d) => (ts.isTypeAliasDeclaration(d) ? [...(d.typeParameters ?? [])] : []))
        .map((p) => checker.getTypeAtLocation(p) as ts.TypeParameter);
      visitArguments(type.aliasTypeArguments, aliasParameters ?? []);
    }
    const declarations = type.getSymbol()?.declarations ?? [];
    if (!declarations.some((d) => isPackageDeclaration(d, packageRoots))) return; // Promise, Map, Uint8Array, ...
    for (const prop of checker.getPropertiesOfType(type)) {
      if (isHidden(prop)) continue;
      if (!(prop.declarations ?? []).some((d) => isPackageDeclaration(d, packageRoots))) continue;
      visitType(typeOf(prop), `${path}#${prop.name}`, depth + 1);
    }
    for (const sig of type.getCallSignatures()) visitSignature(sig, path, depth);
    for (const sig of type.getConstructSignatures()) visitSignature(sig, `new ${path}`, depth);
    for (const info of checker.getIndexInfosOfType(type)) visitType(info.type, `${path}[index]`, depth + 1);
  };

  const visitSymbol = (exported: ts.Symbol, path: string): void => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (seenSymbols.has(symbol)) return;
    seenSymbols.add(symbol);
    if (symbol.flags & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) {
      for (const member of checker.getExportsOfModule(symbol)) visitSymbol(member, `${path}.${member.name}`);
      return;
    }
    if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
      visitType(checker.getDeclaredTypeOfSymbol(symbol), path, 0);
    }
    if (symbol.flags & ts.SymbolFlags.Value) visitType(typeOf(symbol), path, 0);
  };

  for (const [specifier, file] of entryFiles) {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) {
      leaks.push(`${specifier}: no module symbol for ${file}`);
      continue;
    }
    for (const exported of checker.getExportsOfModule(moduleSymbol))
      visitSymbol(exported, `${specifier}.${exported.name}`);
  }
  return leaks;
}
