namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>Which terms of the token cut loss are used (IdleViT's <c>cutloss_type</c>).</summary>
public enum CutLossVariant
{
    /// <summary>inter + intra.</summary>
    Both,

    /// <summary>Only the term that pushes attention across the selected/idle cut to zero.</summary>
    Inter,

    /// <summary>Only the term that pushes a selected row's attention onto selected keys.</summary>
    Intra,

    /// <summary>No cut loss.</summary>
    None,
}
