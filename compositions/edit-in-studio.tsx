import {z} from 'zod';
import {FateZeroClip, studioClipSchema} from '../plugin/index.js';

/** Props Studio's panel edits field by field (studioClipSchema), saved back as literal defaultProps. */
export const editInStudioSchema = z.object({clip: studioClipSchema});

/** One clip, full frame: the composition to try prompts on in `npx fatezero studio`. */
export const EditInStudio: React.FC<z.infer<typeof editInStudioSchema>> = ({clip}) => <FateZeroClip clip={clip} />;
