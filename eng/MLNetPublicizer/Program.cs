// Writes copies of .NET assemblies in which internal types and members can be referenced from another
// assembly, so that a library can compile against ML.NET's internal persistence API. The copies are
// for the compiler only: at run time the real, signed assemblies load, and the library declares
// IgnoresAccessChecksTo for them. Internal becomes public; private protected and protected internal
// become protected, so overrides of ML.NET's protected-only members stay invisible to the library's
// users; private stays private (nothing outside needs it, and it would clash with derived names).
// usage: MLNetPublicizer OUTPUT_FOLDER ASSEMBLY.dll...
using Mono.Cecil;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MLNetPublicizer OUTPUT_FOLDER ASSEMBLY.dll...");
    return 2;
}

var output = Directory.CreateDirectory(args[0]).FullName;
foreach (var input in args.Skip(1))
{
    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input))!);
    using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver });
    foreach (var type in assembly.Modules.SelectMany(m => m.GetTypes()))
    {
        Publicize(type);
    }

    // Write next to the target and move, so that an interrupted build never leaves a truncated copy.
    var target = Path.Combine(output, Path.GetFileName(input));
    var temporary = target + ".tmp";
    assembly.Write(temporary);
    File.Move(temporary, target, overwrite: true);
    Console.WriteLine($"publicized {Path.GetFileName(input)} -> {target}");
}

return 0;

static void Publicize(TypeDefinition type)
{
    var visibility = type.Attributes & TypeAttributes.VisibilityMask;
    if (visibility != TypeAttributes.NestedPrivate)
    {
        type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | (type.IsNested ? TypeAttributes.NestedPublic : TypeAttributes.Public);
    }

    foreach (var method in type.Methods)
    {
        method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | Widen(method.Attributes & MethodAttributes.MemberAccessMask);
    }

    foreach (var field in type.Fields)
    {
        field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | WidenField(field.Attributes & FieldAttributes.FieldAccessMask);
    }
}

static MethodAttributes Widen(MethodAttributes access) => access switch
{
    MethodAttributes.FamANDAssem or MethodAttributes.Family or MethodAttributes.FamORAssem => MethodAttributes.Family,
    MethodAttributes.Assembly => MethodAttributes.Public,
    _ => access,
};

static FieldAttributes WidenField(FieldAttributes access) => access switch
{
    FieldAttributes.FamANDAssem or FieldAttributes.Family or FieldAttributes.FamORAssem => FieldAttributes.Family,
    FieldAttributes.Assembly => FieldAttributes.Public,
    _ => access,
};
