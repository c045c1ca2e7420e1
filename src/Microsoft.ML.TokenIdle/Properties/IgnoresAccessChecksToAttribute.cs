// ML.NET keeps its persistence API (ModelSaveContext, ModelLoadContext, VersionInfo, LoadableClass,
// RowToRowTransformerBase's members) internal. The library compiles against publicized copies of those
// assemblies (eng/MLNetPublicizer.targets); at run time the real ones load, and this attribute, which the
// .NET runtime honours by name, lets this assembly use their non-public members.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.ImageAnalytics")]

namespace System.Runtime.CompilerServices;

/// <summary>Lets this assembly access the non-public members of the named assembly (read by the runtime, not defined by it).</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    /// <summary>Names the assembly whose access checks are ignored.</summary>
    public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

    /// <summary>The assembly's simple name.</summary>
    public string AssemblyName { get; }
}
