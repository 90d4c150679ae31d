import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsBoolean, IsIn, IsString, Length, Matches } from 'class-validator';
import { IsOmittable } from '../http/omittable.validator';
import { ROLES, type Role } from './roles';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'Who uses the key (recorded as the actor of what it does)', example: 'billing-service' })
  @IsString()
  @Length(1, 100)
  // Listed by `npm run api-keys -- list` and written into logs: no control character (a newline
  // or an escape sequence would forge lines there), and something visible.
  @Matches(/^(?!\s*$)[^\p{Cc}]+$/u, { message: 'name must have a visible character and no control characters (such as a newline)' })
  name!: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['writer'] })
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(ROLES, { each: true })
  @ArrayUnique({ message: 'roles must not name a role twice' })
  roles!: Role[];

  // Left out means every team: null must not mean it too (IsOptional would take null as left out).
  @ApiPropertyOptional({ description: 'Teams the key is limited to; absent: every team', example: ['direct'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Matches(/^\S+$/, { each: true, message: 'each team id must be a non-empty string without spaces' })
  teams?: string[];

  @ApiPropertyOptional({ description: 'May name the person it acts for (X-Actor)', default: false })
  @IsOmittable()
  @IsBoolean()
  mayActOnBehalf?: boolean;
}
