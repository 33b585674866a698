namespace Mtcnn.Training.Models;

/// <summary>The three networks of the MTCNN cascade.</summary>
public enum NetKind
{
    /// <summary>P-Net, the proposal network: fully convolutional, trained on 12x12 windows.</summary>
    PNet,

    /// <summary>R-Net, the refinement network: 24x24 crops.</summary>
    RNet,

    /// <summary>O-Net, the output network: 48x48 crops, the landmarks the detector reports.</summary>
    ONet,
}
